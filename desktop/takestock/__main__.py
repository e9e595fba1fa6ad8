from takestock.entry import main

raise SystemExit(main())
