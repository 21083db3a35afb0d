<?php
// Information leak: a PHP warning with the server's file path is displayed.
require __DIR__ . '/../common.php';
require_login();
page_start('Status');
echo file_get_contents('/nonexistent/omamori-fixture/status.txt');
echo "<p>Status page</p>";
page_end();
