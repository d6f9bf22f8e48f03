"""HTTP building blocks every service uses: the app factory and its parts."""
