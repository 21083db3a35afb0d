<?php
// Safe twin of vuln/csrf.php: the form carries a per-session token that is checked.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
if ($_SERVER['REQUEST_METHOD'] === 'POST' && csrf_ok()) {
    $_SESSION['email_safe'] = substr($_POST['email'] ?? '', 0, 200);
}
page_start('Settings');
echo "<p>E-mail: " . htmlspecialchars($_SESSION['email_safe'] ?? 'alice@example.com') . "</p>";
echo "<form method=\"post\" action=\"/safe/csrf.php\">" . csrf_field() . "<input type=\"email\" name=\"email\"><input type=\"submit\" value=\"Save\"></form>";
page_end();
