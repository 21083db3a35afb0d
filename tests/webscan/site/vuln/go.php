<?php
// Open redirect: sends the visitor wherever "url" says.
require __DIR__ . '/../common.php';
require_login();
header('Location: ' . ($_GET['url'] ?? '/'));
