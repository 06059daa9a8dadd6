# e2e-timeout: 3
sleep 300 &
pass z/t
sleep 100
