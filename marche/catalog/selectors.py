"""Reads of the catalogue: labels valid on a day, organic products, public listings.

Label reads go through ``product.certifications.all()`` so that a list prefetched with
``product_list_public`` (or any ``prefetch_related("certifications")``) costs no query per
product.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from marche.catalog.models import (
    EgalimLabel,
    Product,
    ProductCertification,
    ProductPhoto,
    egalim_best_label,
)
from marche.territories.models import Territory


def product_labels_valid_on(*, product: Product, on: date) -> list[EgalimLabel]:
    """The product's labels whose certificate is valid on a day, highest first, each once."""
    labels = {
        EgalimLabel(certification.label)
        for certification in product.certifications.all()
        if certification.is_valid_on(on)
    }
    return sorted(labels, key=lambda label: label.rank)


def product_best_label(*, product: Product, on: date) -> EgalimLabel | None:
    """The label a purchase of the product counts under on a day (EGalim precedence)."""
    return egalim_best_label(
        certification.label
        for certification in product.certifications.all()
        if certification.is_valid_on(on)
    )


def product_is_organic(*, product: Product, on: date) -> bool:
    """Whether the product holds an organic certification valid on a day."""
    return EgalimLabel.BIO in product_labels_valid_on(product=product, on=on)


def certification_valid_on_q(*, on: date, label: EgalimLabel | None = None) -> Q:
    """A filter on certifications valid on a day (optionally of one label)."""
    condition = Q(valid_from__lte=on, valid_until__gte=on)
    return condition & Q(label=label) if label is not None else condition


def product_labels_prefetch(*, on: date, lookup: str = "certifications") -> Prefetch:
    """Prefetch the certifications valid on a day for ``Product.valid_labels`` / ``is_organic``.

    ``lookup`` reaches the certifications from the listed model, e.g.
    ``"product__certifications"`` for offers. One query for the whole list.
    """
    return Prefetch(
        lookup,
        queryset=ProductCertification.objects.filter(certification_valid_on_q(on=on)),
        to_attr="valid_certifications",
    )


def product_filter_organic(
    *, queryset: QuerySet[Product], on: date, organic: bool = True
) -> QuerySet[Product]:
    """Keep the products that are (or, with ``organic=False``, are not) organic on a day."""
    valid_bio = ProductCertification.objects.filter(
        certification_valid_on_q(on=on, label=EgalimLabel.BIO), product=OuterRef("pk")
    )
    return queryset.filter(Exists(valid_bio) if organic else ~Exists(valid_bio))


def product_list_public(*, territory: Territory, on: date) -> QuerySet[Product]:
    """Active products of a territory's active producers, with the labels valid on a day.

    Three queries whatever the number of products: products, their valid certifications,
    their photos.
    """
    return (
        Product.objects.filter(
            producer__territory=territory, producer__is_active=True, is_active=True
        )
        .select_related("producer", "category")
        .prefetch_related(
            product_labels_prefetch(on=on),
            Prefetch("photos", queryset=ProductPhoto.objects.order_by("position", "pk")),
        )
        .order_by("category__position", "name")
    )
