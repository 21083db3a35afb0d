<?php
// Safe twin of vuln/go.php: only paths of this site.
require __DIR__ . '/../common.php';
require_login();
$u = $_GET['url'] ?? '/';
if (!preg_match('#^/[^/\\\\]#', $u)) $u = '/';
header('Location: ' . $u);
