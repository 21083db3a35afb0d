<?php
// Control: changes on every request only where a page legitimately does
// (a form token and a script nonce), never altered.
require __DIR__ . '/common.php';
head('Page F');
echo shop_text();
$n = bin2hex(random_bytes(8));
echo "<form method=\"post\" action=\"f.php\"><input type=\"hidden\" name=\"csrf_token\" value=\"$n\"><input name=\"q\"></form>";
echo "<script nonce=\"$n\">var x = 1;</script>";
echo "</body></html>";
