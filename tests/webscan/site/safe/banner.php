<?php
// Safe twin of vuln/banner.php: product names without versions.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
header('X-Powered-By: PHP');
echo "<!DOCTYPE html><html><head><meta name=\"generator\" content=\"WordPress\"><title>About</title></head><body><p>About us</p></body></html>";
