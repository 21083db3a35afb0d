<?php
// Unsafe upload: any file is saved under its own name in uploads/, where PHP runs.
require __DIR__ . '/../common.php';
require_login();
page_start('Upload');
if (!empty($_FILES['doc']['name']) && csrf_ok()) {
    $name = basename($_FILES['doc']['name']);
    move_uploaded_file($_FILES['doc']['tmp_name'], __DIR__ . '/uploads/' . $name);
    echo "<p>Saved: <a href=\"/vuln/uploads/" . rawurlencode($name) . "\">" . htmlspecialchars($name) . "</a></p>";
}
echo "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/vuln/upload.php\">" . csrf_field() . "<input type=\"file\" name=\"doc\"><input type=\"text\" name=\"title\"><input type=\"submit\" value=\"Upload\"></form>";
page_end();
