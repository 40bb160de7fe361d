// Dashboard front end (placeholder until the dashboard issue).
document.body.dataset.orchard = 'ready';
