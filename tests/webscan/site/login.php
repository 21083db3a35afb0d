<?php
// A login form with a one-time anti-CSRF token: the token of the last form
// shown is the only one accepted, and it is used up by the attempt.
require __DIR__ . '/common.php';
safe_headers();
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    $ok = isset($_POST['token'], $_SESSION['login_token']) &&
          hash_equals($_SESSION['login_token'], $_POST['token']);
    unset($_SESSION['login_token']);
    if ($ok && ($_POST['username'] ?? '') === 'alice' && ($_POST['password'] ?? '') === 'wonderland') {
        session_regenerate_id(true);
        $_SESSION['user'] = 'alice';
        $_SESSION['n'] = 0;
        header('Location: /index.php');
        exit;
    }
    $error = $ok ? 'Wrong user name or password.' : 'The form expired, please try again.';
}
$_SESSION['login_token'] = bin2hex(random_bytes(16));
echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Log in</title></head><body><h1>Log in</h1>";
if (!empty($error)) echo "<p>" . htmlspecialchars($error) . "</p>";
echo "<form method=\"post\" action=\"/login.php\">";
echo "<input type=\"hidden\" name=\"token\" value=\"" . $_SESSION['login_token'] . "\">";
echo "<label>User <input type=\"text\" name=\"username\"></label>";
echo "<label>Password <input type=\"password\" name=\"password\"></label>";
echo "<button type=\"submit\" name=\"go\" value=\"1\">Log in</button></form></body></html>";
