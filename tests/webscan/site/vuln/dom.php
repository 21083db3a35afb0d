<?php
// DOM XSS: a script writes the URL's "name" into the page with innerHTML.
require __DIR__ . '/../common.php';
require_login();
page_start('Welcome');
echo "<div id=\"out\"></div>";
echo "<script>\nvar params = new URLSearchParams(window.location.search);\nvar who = params.get('name');\ndocument.getElementById('out').innerHTML = 'Welcome, ' + who;\n</script>";
page_end();
