from pipeline.app.cli import main

raise SystemExit(main())
