<?php
// Altered: a link hidden from view (search-engine spam).
require __DIR__ . '/common.php';
head('Page C');
echo shop_text();
if (tampered()) echo "<div style=\"display: none\"><a href=\"http://cheap-pills.example/buy\">cheap pills</a></div>";
echo "</body></html>";
