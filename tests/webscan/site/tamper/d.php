<?php
// Altered: defacement, the visible text replaced.
require __DIR__ . '/common.php';
if (tampered()) {
    head('Page D');
    echo "<p>HACKED BY THE NIGHT CREW. Your security is a joke, pay us or we will be back again tomorrow night.</p></body></html>";
    exit;
}
head('Page D');
echo shop_text();
echo "</body></html>";
