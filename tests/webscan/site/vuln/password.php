<?php
// CSRF by GET, as many old applications do it: a password change with no
// token. The checks must never submit it (it would change the password).
require __DIR__ . '/../common.php';
require_login();
page_start('Change password');
if (isset($_GET['password_new'], $_GET['password_conf'])) {
    file_put_contents(data_dir() . '/password_changed', $_GET['password_new'] . "\n", FILE_APPEND);
    echo "<p>Password changed.</p>";
}
echo "<form method=\"get\" action=\"/vuln/password.php\"><input type=\"password\" name=\"password_new\"><input type=\"password\" name=\"password_conf\"><input type=\"submit\" name=\"Change\" value=\"Change\"></form>";
page_end();
