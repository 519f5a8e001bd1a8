from geo.dbcli import main

raise SystemExit(main())
