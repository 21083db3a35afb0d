<?php
// Configuration (prints nothing); a copy was left as config.php.bak.
$db_password = 'fixture-secret';
