<?php
// Safe twin of vuln/guestbook.php: comments are escaped when shown.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
if ($_SERVER['REQUEST_METHOD'] === 'POST' && csrf_ok()) {
    $st = db()->prepare('INSERT INTO guestbook_safe (name, comment) VALUES (?, ?)');
    $st->bindValue(1, substr($_POST['name'] ?? '', 0, 200));
    $st->bindValue(2, substr($_POST['comment'] ?? '', 0, 2000));
    $st->execute();
    header('Location: /safe/guestbook.php');
    exit;
}
page_start('Guest book');
$r = db()->query('SELECT name, comment FROM guestbook_safe ORDER BY id DESC LIMIT 200');
echo "<ul>";
while ($row = $r->fetchArray(SQLITE3_ASSOC)) echo "<li><b>" . htmlspecialchars($row['name']) . "</b>: " . htmlspecialchars($row['comment']) . "</li>";
echo "</ul><form method=\"post\" action=\"/safe/guestbook.php\">" . csrf_field() . "<input name=\"name\"><textarea name=\"comment\"></textarea><input type=\"submit\" value=\"Post\"></form>";
page_end();
