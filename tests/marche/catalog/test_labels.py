"""EGalim labels: precedence, certificate validity dates, the best label of a product."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from marche.catalog.models import (
    EGALIM_PRECEDENCE,
    EgalimLabel,
    EgalimTier,
    Product,
    ProductCertification,
    egalim_best_label,
)
from marche.catalog.selectors import (
    product_best_label,
    product_filter_organic,
    product_is_organic,
    product_labels_prefetch,
    product_labels_valid_on,
)
from marche.cycles.models import Offer
from tests.factories import OfferFactory, OrderCycleFactory, ProductFactory

pytestmark = pytest.mark.django_db


def certify(
    product: Product,
    label: EgalimLabel,
    valid_from: date = date(2026, 1, 1),
    valid_until: date = date(2026, 12, 31),
) -> ProductCertification:
    return ProductCertification.objects.create(
        product=product,
        label=label,
        certificate_reference=f"REF-{label}-{valid_from:%Y%m%d}",
        certifier="Organisme de test",
        valid_from=valid_from,
        valid_until=valid_until,
    )


def test_precedence_runs_bio_then_siqo_then_other_labels_then_externalities() -> None:
    assert [(label.value, label.rank, label.tier) for label in EGALIM_PRECEDENCE] == [
        ("BIO", 0, EgalimTier.ORGANIC),
        ("LABEL_ROUGE", 1, EgalimTier.SIQO),
        ("AOCAOP", 2, EgalimTier.SIQO),
        ("IGP", 3, EgalimTier.SIQO),
        ("STG", 4, EgalimTier.SIQO),
        ("HVE", 5, EgalimTier.OTHER),
        ("PECHE_DURABLE", 6, EgalimTier.OTHER),
        ("RUP", 7, EgalimTier.OTHER),
        ("FERMIER", 8, EgalimTier.OTHER),
        ("COMMERCE_EQUITABLE", 9, EgalimTier.OTHER),
        ("EXTERNALITES", 10, EgalimTier.EXTERNALITIES),
        ("PERFORMANCE", 11, EgalimTier.EXTERNALITIES),
    ]


def test_only_bio_counts_toward_the_organic_target_all_count_toward_egalim() -> None:
    assert [label for label in EgalimLabel if label.counts_toward_organic] == [EgalimLabel.BIO]
    assert all(label.counts_toward_egalim for label in EgalimLabel)


def test_a_purchase_counts_once_under_its_highest_label() -> None:
    assert egalim_best_label(["HVE", "IGP", "FERMIER"]) == EgalimLabel.IGP
    assert egalim_best_label(["PERFORMANCE", "BIO", "LABEL_ROUGE"]) == EgalimLabel.BIO
    assert egalim_best_label(["EXTERNALITES"]) == EgalimLabel.EXTERNALITES
    assert egalim_best_label([]) is None


def test_a_label_counts_only_on_the_days_its_certificate_is_valid() -> None:
    product = ProductFactory()
    certify(product, EgalimLabel.BIO, date(2026, 3, 1), date(2026, 8, 31))
    assert product_labels_valid_on(product=product, on=date(2026, 2, 28)) == []
    assert product_labels_valid_on(product=product, on=date(2026, 3, 1)) == [EgalimLabel.BIO]
    assert product_labels_valid_on(product=product, on=date(2026, 8, 31)) == [EgalimLabel.BIO]
    assert product_labels_valid_on(product=product, on=date(2026, 9, 1)) == []
    assert product_is_organic(product=product, on=date(2026, 5, 1)) is True
    assert product_is_organic(product=product, on=date(2026, 9, 1)) is False


def test_the_best_label_is_the_highest_one_valid_that_day() -> None:
    product = ProductFactory()
    certify(product, EgalimLabel.HVE, date(2025, 1, 1), date(2027, 12, 31))
    certify(product, EgalimLabel.LABEL_ROUGE, date(2026, 1, 1), date(2026, 6, 30))
    certify(product, EgalimLabel.BIO, date(2026, 4, 1), date(2026, 12, 31))
    assert product_best_label(product=product, on=date(2025, 6, 1)) == EgalimLabel.HVE
    assert product_best_label(product=product, on=date(2026, 2, 1)) == EgalimLabel.LABEL_ROUGE
    assert product_best_label(product=product, on=date(2026, 5, 1)) == EgalimLabel.BIO
    assert product_best_label(product=product, on=date(2027, 3, 1)) == EgalimLabel.HVE
    assert product_best_label(product=product, on=date(2028, 1, 1)) is None
    assert product_labels_valid_on(product=product, on=date(2026, 5, 1)) == [
        EgalimLabel.BIO,
        EgalimLabel.LABEL_ROUGE,
        EgalimLabel.HVE,
    ]


def test_a_renewed_certificate_lists_its_label_once() -> None:
    product = ProductFactory()
    certify(product, EgalimLabel.BIO, date(2025, 1, 1), date(2026, 3, 31))
    certify(product, EgalimLabel.BIO, date(2026, 3, 1), date(2027, 3, 31))
    assert product_labels_valid_on(product=product, on=date(2026, 3, 15)) == [EgalimLabel.BIO]


def test_organic_filter_follows_validity_dates() -> None:
    organic = ProductFactory(name="Carottes bio")
    expired = ProductFactory(name="Poireaux")
    plain = ProductFactory(name="Navets")
    certify(organic, EgalimLabel.BIO, date(2026, 1, 1), date(2026, 12, 31))
    certify(expired, EgalimLabel.BIO, date(2024, 1, 1), date(2025, 12, 31))
    certify(plain, EgalimLabel.HVE, date(2026, 1, 1), date(2026, 12, 31))
    products = Product.objects.order_by("name")
    on = date(2026, 6, 1)
    assert [p.name for p in product_filter_organic(queryset=products, on=on)] == ["Carottes bio"]
    assert [p.name for p in product_filter_organic(queryset=products, on=on, organic=False)] == [
        "Navets",
        "Poireaux",
    ]


def test_a_certificate_ending_before_it_starts_is_refused() -> None:
    product = ProductFactory()
    certification = ProductCertification(
        product=product,
        label=EgalimLabel.BIO,
        certificate_reference="FR-BIO-01 X",
        valid_from=date(2026, 6, 1),
        valid_until=date(2026, 5, 31),
    )
    with pytest.raises(ValidationError) as refused:
        certification.full_clean()
    assert refused.value.message_dict == {
        "valid_until": ["La fin de validité précède le début de validité."]
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        certification.save()
    assert ProductCertification.objects.count() == 0


def test_a_one_day_certificate_is_allowed() -> None:
    product = ProductFactory()
    certify(product, EgalimLabel.FERMIER, date(2026, 6, 1), date(2026, 6, 1))
    assert product_labels_valid_on(product=product, on=date(2026, 6, 1)) == [EgalimLabel.FERMIER]


def test_labels_of_a_prefetched_list_cost_no_query_per_product(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for index in range(4):
        product = ProductFactory()
        certify(product, EgalimLabel.BIO)
        if index % 2:
            certify(product, EgalimLabel.IGP)
    with django_assert_num_queries(2):
        products = list(Product.objects.prefetch_related("certifications").order_by("pk"))
        best = [product_best_label(product=p, on=date(2026, 6, 1)) for p in products]
        labels = [product_labels_valid_on(product=p, on=date(2026, 6, 1)) for p in products]
    assert best == [EgalimLabel.BIO] * 4
    assert labels == [
        [EgalimLabel.BIO],
        [EgalimLabel.BIO, EgalimLabel.IGP],
        [EgalimLabel.BIO],
        [EgalimLabel.BIO, EgalimLabel.IGP],
    ]


def test_is_organic_is_derived_from_todays_certificates_without_prefetch() -> None:
    product = ProductFactory()
    certify(product, EgalimLabel.BIO, date(2026, 1, 1), date(2026, 6, 30))
    certify(product, EgalimLabel.HVE, date(2026, 1, 1), date(2026, 12, 31))
    with time_machine.travel(date(2026, 6, 30)):
        fresh = Product.objects.get()
        assert (fresh.is_organic, fresh.valid_labels) == (True, [EgalimLabel.BIO, EgalimLabel.HVE])
    with time_machine.travel(date(2026, 7, 1)):
        fresh = Product.objects.get()
        assert (fresh.is_organic, fresh.valid_labels) == (False, [EgalimLabel.HVE])


def test_a_list_prefetched_for_a_day_answers_for_that_day_in_one_query(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    cycle = OrderCycleFactory()
    for index in range(3):
        offer = OfferFactory(cycle=cycle, product=ProductFactory(name=f"Légume {index}"))
        if index != 1:
            certify(offer.product, EgalimLabel.BIO, date(2026, 1, 1), date(2026, 12, 31))
    with django_assert_num_queries(2):
        offers = list(
            Offer.objects.select_related("product")
            .prefetch_related(
                product_labels_prefetch(on=date(2026, 12, 31), lookup="product__certifications")
            )
            .order_by("product__name")
        )
        organic = [offer.product.is_organic for offer in offers]
    assert organic == [True, False, True]
    later = Product.objects.prefetch_related(product_labels_prefetch(on=date(2027, 1, 1)))
    assert [product.is_organic for product in later] == [False, False, False]
