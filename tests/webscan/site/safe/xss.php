<?php
// Safe twin of vuln/xss.php: the word is escaped in text and attribute.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Search');
$q = htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES);
echo "<form method=\"get\"><input type=\"text\" name=\"q\" value=\"$q\"><input type=\"submit\" value=\"Search\"></form>";
echo "<p>You searched for: $q</p>";
page_end();
