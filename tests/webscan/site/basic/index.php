<?php
require __DIR__ . '/auth.php';
echo "<!DOCTYPE html><html><head><title>Members</title></head><body><p><a href=\"secret.php?q=hello\">the members' page</a></p></body></html>";
