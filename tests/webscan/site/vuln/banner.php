<?php
// Banner: software names with versions in a header and in the page.
require __DIR__ . '/../common.php';
require_login();
header('X-Powered-By: PHP/5.4.45');
echo "<!DOCTYPE html><html><head><meta name=\"generator\" content=\"WordPress 4.7.1\"><title>About</title></head><body><p>About us</p></body></html>";
