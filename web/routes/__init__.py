"""The site's routes, one router per area; ``create_app`` includes them in this order."""

from web.routes import agreement, api, auth, bulk, downloads, erase, forms, pages

ROUTERS = (
    auth.router,
    pages.router,
    downloads.router,
    forms.router,
    erase.router,
    agreement.router,
    bulk.router,
    api.router,
)
