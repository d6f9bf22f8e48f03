"""aiorch shared kernel."""
