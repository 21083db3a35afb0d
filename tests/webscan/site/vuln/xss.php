<?php
// Reflected XSS: the search word is printed as it came, in text and in an attribute.
require __DIR__ . '/../common.php';
require_login();
page_start('Search');
$q = $_GET['q'] ?? '';
echo "<form method=\"get\"><input type=\"text\" name=\"q\" value=\"$q\"><input type=\"submit\" value=\"Search\"></form>";
echo "<p>You searched for: $q</p>";
page_end();
