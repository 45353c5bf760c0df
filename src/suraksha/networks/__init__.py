"""Account networks: accounts linked by shared matched media, suspicious links and IPs/devices."""
