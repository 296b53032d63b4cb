// Producer onboarding over the control streams.
