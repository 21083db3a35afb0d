<?php
// Safe twin of vuln/page.php: the page is chosen from a fixed list.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Page');
$pages = ['home' => __DIR__ . '/home.php'];
$p = $_GET['page'] ?? 'home';
if (isset($pages[$p])) include $pages[$p]; else echo "<p>No such page.</p>";
page_end();
