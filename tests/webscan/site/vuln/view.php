<?php
// Path traversal: the file name is joined to the documents folder as it came.
require __DIR__ . '/../common.php';
require_login();
page_start('Documents');
$f = $_GET['file'] ?? 'about.txt';
echo "<pre>";
@readfile(__DIR__ . '/../docs/' . $f);
echo "</pre>";
page_end();
