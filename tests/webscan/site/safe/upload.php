<?php
// Safe twin of vuln/upload.php: only .txt and .png, stored under a new name.
require __DIR__ . '/../common.php';
require_login();
safe_headers();
page_start('Upload');
if (!empty($_FILES['doc']['name']) && csrf_ok()) {
    $ext = strtolower(pathinfo($_FILES['doc']['name'], PATHINFO_EXTENSION));
    if (in_array($ext, ['txt', 'png'], true)) {
        $name = bin2hex(random_bytes(8)) . '.' . $ext;
        move_uploaded_file($_FILES['doc']['tmp_name'], __DIR__ . '/uploads/' . $name);
        echo "<p>Saved as " . htmlspecialchars($name) . ".</p>";
    } else {
        echo "<p>Only .txt and .png files are accepted.</p>";
    }
}
echo "<form method=\"post\" enctype=\"multipart/form-data\" action=\"/safe/upload.php\">" . csrf_field() . "<input type=\"file\" name=\"doc\"><input type=\"text\" name=\"title\"><input type=\"submit\" value=\"Upload\"></form>";
page_end();
