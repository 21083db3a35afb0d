<?php
require __DIR__ . '/common.php';
head('Shop pages');
foreach (['a', 'b', 'c', 'd', 'e', 'f'] as $p) echo "<p><a href=\"$p.php\">page $p</a></p>";
echo "</body></html>";
