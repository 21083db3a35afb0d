<?php
// Cookie flags: a login-remembering cookie without HttpOnly or SameSite.
require __DIR__ . '/../common.php';
require_login();
setcookie('remember_login', bin2hex(random_bytes(8)), ['path' => '/vuln/']);
page_start('Preferences');
echo "<p>Saved.</p>";
page_end();
