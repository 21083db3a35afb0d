<?php
// Safe twin of vuln/ping.php: the argument is quoted for the shell.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Network check');
$host = $_GET['host'] ?? 'localhost';
echo "<pre>" . htmlspecialchars(shell_exec("echo checking " . escapeshellarg($host))) . "</pre>";
page_end();
