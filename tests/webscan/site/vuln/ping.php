<?php
// OS command injection: the host name goes to a shell as it came.
require __DIR__ . '/../common.php';
require_login();
page_start('Network check');
$host = $_GET['host'] ?? 'localhost';
echo "<pre>" . htmlspecialchars(shell_exec("echo checking " . $host)) . "</pre>";
page_end();
