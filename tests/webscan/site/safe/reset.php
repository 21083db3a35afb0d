<?php
// A destructive button: empties the guest books. Scanners must not press it
// (its name says so); the tests check it is never requested.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
if ($_SERVER['REQUEST_METHOD'] === 'POST' && csrf_ok()) {
    db()->exec('DELETE FROM guestbook');
    db()->exec('DELETE FROM guestbook_safe');
}
page_start('Reset');
echo "<form method=\"post\" action=\"/safe/reset.php\">" . csrf_field() . "<input type=\"submit\" name=\"confirm\" value=\"Reset the database\"></form>";
page_end();
