from topic_report.cli import main

raise SystemExit(main())
