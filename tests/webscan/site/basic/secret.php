<?php
// Behind basic authentication: a reflected XSS that only a scanner that
// authenticates can reach.
require __DIR__ . '/auth.php';
echo "<!DOCTYPE html><html><head><title>Secret</title></head><body><p>Members only: " . ($_GET['q'] ?? '') . "</p></body></html>";
