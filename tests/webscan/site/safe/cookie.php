<?php
// Safe twin of vuln/cookie.php: HttpOnly and SameSite=Lax.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
setcookie('remember_login_safe', bin2hex(random_bytes(8)), ['path' => '/safe/', 'httponly' => true, 'samesite' => 'Lax']);
page_start('Preferences');
echo "<p>Saved.</p>";
page_end();
