<?php
// File inclusion: the page name goes to include() with ".php" added.
require __DIR__ . '/../common.php';
require_login();
page_start('Page');
$p = $_GET['page'] ?? 'home';
@include($p . '.php');
page_end();
