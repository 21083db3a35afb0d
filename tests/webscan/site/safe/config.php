<?php
// Configuration (prints nothing); no copy is left next to it.
$db_password = 'fixture-secret';
