from takestock.cli import main

raise SystemExit(main())
