<?php
// Safe twin of vuln/debug.php: the failure is logged, the page says little.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Status');
$s = @file_get_contents('/nonexistent/omamori-fixture/status.txt');
if ($s === false) echo "<p>The status is not available right now.</p>";
echo "<p>Status page</p>";
page_end();
