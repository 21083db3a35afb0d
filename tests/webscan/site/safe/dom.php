<?php
// Safe twin of vuln/dom.php: the name is written with textContent.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Welcome');
echo "<div id=\"out\"></div>";
echo "<script>\nvar params = new URLSearchParams(window.location.search);\nvar who = params.get('name');\ndocument.getElementById('out').textContent = 'Welcome, ' + who;\n</script>";
page_end();
