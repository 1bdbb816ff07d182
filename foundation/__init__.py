"""The foundation every other package stands on: settings, the injected clock and i18n."""
