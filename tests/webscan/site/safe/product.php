<?php
// Safe twin of vuln/product.php: a prepared statement, no error details.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Product');
$st = db()->prepare('SELECT name, price FROM products WHERE id = ?');
$st->bindValue(1, $_GET['id'] ?? '1');
$r = $st->execute();
$found = false;
while ($r && ($row = $r->fetchArray(SQLITE3_ASSOC))) { $found = true; echo "<p>" . htmlspecialchars($row['name']) . ": " . (int)$row['price'] . " yen</p>"; }
if (!$found) echo "<p>No such product.</p>";
page_end();
