from geo.usercli import main

raise SystemExit(main())
