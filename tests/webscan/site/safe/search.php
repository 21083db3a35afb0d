<?php
// Safe twin of vuln/search.php: a prepared statement.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Stock');
$st = db()->prepare('SELECT count(*) AS n FROM products WHERE name = ?');
$st->bindValue(1, $_GET['name'] ?? '');
$row = $st->execute()->fetchArray(SQLITE3_ASSOC);
echo $row['n'] ? "<p>In stock. We have this fruit today, come and buy it.</p><p>Delivery in two days.</p>" : "<p>Not found.</p>";
echo "<form method=\"get\"><input name=\"name\"><input type=\"submit\" value=\"Check\"></form>";
page_end();
