<?php
// Safe twin of vuln/view.php: only names of the documents folder.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Documents');
$f = basename($_GET['file'] ?? 'about.txt');
$allowed = ['about.txt', 'hours.txt'];
echo "<pre>";
if (in_array($f, $allowed, true)) readfile(__DIR__ . '/../docs/' . $f); else echo "No such document.";
echo "</pre>";
page_end();
