<?php
// Blind SQL injection: the name is pasted into the query; errors are hidden,
// only "in stock" or "not found" shows.
require __DIR__ . '/../common.php';
require_login();
page_start('Stock');
$name = $_GET['name'] ?? '';
$db = db();
$n = @$db->querySingle("SELECT count(*) FROM products WHERE name = '$name'");
echo $n ? "<p>In stock. We have this fruit today, come and buy it.</p><p>Delivery in two days.</p>" : "<p>Not found.</p>";
echo "<form method=\"get\"><input name=\"name\"><input type=\"submit\" value=\"Check\"></form>";
page_end();
