<?php
// CSRF: changes the e-mail address with a POST that carries no token.
require __DIR__ . '/../common.php';
require_login();
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $_SESSION['email'] = substr($_POST['email'] ?? '', 0, 200);
}
page_start('Settings');
echo "<p>E-mail: " . htmlspecialchars($_SESSION['email'] ?? 'alice@example.com') . "</p>";
echo "<form method=\"post\" action=\"/vuln/csrf.php\"><input type=\"email\" name=\"email\"><input type=\"submit\" value=\"Save\"></form>";
page_end();
