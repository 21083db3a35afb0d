<?php
// SQL injection, error-based: the id is pasted into the query and errors are shown.
require __DIR__ . '/../common.php';
require_login();
page_start('Product');
$id = $_GET['id'] ?? '1';
$db = db();
$db->enableExceptions(true);
try {
    $r = $db->query("SELECT name, price FROM products WHERE id = $id");
    while ($row = $r->fetchArray(SQLITE3_ASSOC)) echo "<p>" . htmlspecialchars($row['name']) . ": " . (int)$row['price'] . " yen</p>";
} catch (Exception $e) {
    echo "<p>Database error: " . htmlspecialchars($e->getMessage()) . "</p>";
}
page_end();
